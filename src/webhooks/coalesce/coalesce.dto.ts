import { ApiProperty } from '@nestjs/swagger';
import { IsInt, Max, Min } from 'class-validator';
import { COALESCE_MAX_SECONDS, DEFAULT_WINDOW_SECONDS } from './window.js';

const DEFAULTS = Object.entries(DEFAULT_WINDOW_SECONDS)
  .map(([type, seconds]) => `${type} ${seconds} s`)
  .join(', ');

export const COALESCE_DOC =
  `Chat webhooks: activities coming due within the window go as one message (a summary title and one line per activity; ` +
  `the first after a quiet window goes at once). 0 is off: the default for every type but ${DEFAULTS}. CUSTOM bodies are always one activity.`;

export class CoalesceDto {
  @ApiProperty({ type: 'integer', minimum: 0, maximum: COALESCE_MAX_SECONDS, example: 60 })
  @IsInt() @Min(0) @Max(COALESCE_MAX_SECONDS) windowSeconds: number;
}
