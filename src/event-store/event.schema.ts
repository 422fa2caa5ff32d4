import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { EventMetadata, RecordedEvent } from './event.js';

export class EventMetadataSchema implements EventMetadata {
  @ApiProperty({ description: 'The user who caused it (1 is the System Bot).' }) actorId: number;
  @ApiProperty({ description: 'The request id of the request that appended it.' }) correlationId: string;
  @ApiProperty({ type: String, nullable: true }) causationId: string | null;
  @ApiPropertyOptional({ description: 'W3C traceparent of the span that appended it, when tracing was on and the request was traced: what follows from the event continues that trace.', example: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' })
  traceparent?: string;
  @ApiPropertyOptional({ description: 'W3C tracestate carried with the traceparent, when the trace has one.' }) tracestate?: string;
}

/** An event as the log holds it (secrets redacted). */
export class RecordedEventSchema implements RecordedEvent {
  @ApiProperty({ description: 'The global position in the log.' }) position: number;
  @ApiProperty({ format: 'uuid' }) eventId: string;
  @ApiProperty({ example: 'issue-12' }) streamId: string;
  @ApiProperty({ description: 'The version of its stream (1 for the first event).' }) version: number;
  @ApiProperty({ example: 'issue.task-status-changed', description: 'A stable type string.' }) type: string;
  @ApiProperty({ example: 1 }) schemaVersion: number;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'The payload, as of its type and schema version.' }) data: unknown;
  @ApiProperty({ type: EventMetadataSchema }) metadata: EventMetadataSchema;
  @ApiProperty({ format: 'date-time' }) occurredAt: string;
  @ApiPropertyOptional({ description: 'PostgreSQL only: the id of the transaction that wrote it. Concurrent writers commit out of position order; the log’s settled order is (transactionId, position).' })
  transactionId?: string;
}
