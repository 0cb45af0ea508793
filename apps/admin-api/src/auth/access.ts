import type { AdminRole, AdminToken } from '@assigner/config';
import { createParamDecorator, SetMetadata, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';

export const ACCESS = 'admin-api:access';
export type Access = 'public' | AdminRole;

/** No token needed (health probes). */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(ACCESS, 'public');
/** Changes something: an editor token is needed. Everything else needs a reader or editor. */
export const EditorOnly = (): MethodDecorator & ClassDecorator => SetMetadata(ACCESS, 'editor');

export interface AuthenticatedRequest extends Request {
  adminToken?: AdminToken;
}

/** The name of the token that made the request: who the audit trail records. */
export const Actor = createParamDecorator((_: unknown, context: ExecutionContext): string => {
  const token = context.switchToHttp().getRequest<AuthenticatedRequest>().adminToken;
  if (!token) throw new Error('Actor used on a route without authentication');
  return token.name;
});
