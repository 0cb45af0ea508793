import { HttpStatus, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ProblemException } from '../http/problem';
import { ACCESS, type Access, type AuthenticatedRequest } from './access';
import { TokenVerifier } from './token-verifier';

const CHALLENGE = { 'WWW-Authenticate': 'Bearer realm="experiment-assigner"' };

/**
 * Bearer tokens with roles: 401 when no known token is presented, 403 when the token's role may
 * not do this. Only the token's name is kept on the request; the secret is never echoed.
 */
@Injectable()
export class AdminAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: TokenVerifier,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const access =
      this.reflector.getAllAndOverride<Access | undefined>(ACCESS, [
        context.getHandler(),
        context.getClass(),
      ]) ?? 'reader';
    if (access === 'public') return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const match = /^Bearer +(\S+)\s*$/i.exec(request.headers.authorization ?? '');
    if (!match)
      throw new ProblemException(
        HttpStatus.UNAUTHORIZED,
        'send a token as "Authorization: Bearer <token>"',
        undefined,
        {},
        CHALLENGE,
      );
    const token = this.verifier.verify(match[1]!);
    if (!token)
      throw new ProblemException(
        HttpStatus.UNAUTHORIZED,
        'the bearer token is not one this API knows',
        undefined,
        {},
        { 'WWW-Authenticate': `${CHALLENGE['WWW-Authenticate']}, error="invalid_token"` },
      );
    request.adminToken = token;
    if (access === 'editor' && token.role !== 'editor')
      throw new ProblemException(
        HttpStatus.FORBIDDEN,
        `token ${token.name} is a ${token.role}; this needs an editor token`,
      );
    return true;
  }
}
