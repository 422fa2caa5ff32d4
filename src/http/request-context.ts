import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Metadata } from '../event-store/aggregate-store.js';

export interface AuthenticatedUser {
  id: number;
  name: string;
  email: string;
  role: 'SYSTEM' | 'ADMIN' | 'MEMBER';
}

export interface HeraldRequest {
  id: string;
  headers: Record<string, string | string[] | undefined>;
  params?: Record<string, string>;
  user?: AuthenticatedUser;
}

/** Who acts and under which correlation id: goes into every event's metadata. */
export const Actor = createParamDecorator((_: unknown, ctx: ExecutionContext): Metadata => {
  const request = ctx.switchToHttp().getRequest<HeraldRequest>();
  const correlation = request.headers['x-correlation-id'];
  return {
    actorId: request.user!.id,
    correlationId: (typeof correlation === 'string' && correlation.length <= 200 ? correlation : undefined) ?? String(request.id),
  };
});

export const CurrentUser = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): AuthenticatedUser => ctx.switchToHttp().getRequest<HeraldRequest>().user!,
);
