import { Controller, Get, Param, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { notFound } from '../shared/errors.js';
import { Public } from '../shared/route-access.js';
import { CONSOLE_CSP, ConsoleAssets, type ConsoleFile } from './console-assets.js';

interface Reply {
  header(name: string, value: string): Reply;
  send(body: Buffer): unknown;
}

/**
 * The delivery console's page and files: public (they hold no data; the page asks for a
 * token and calls the API with it, which applies the usual rules).
 */
@ApiExcludeController() // a page for people, not part of the documented API (like /docs)
@Controller('console')
@Public()
export class ConsoleController {
  constructor(private readonly assets: ConsoleAssets) {}

  @Get()
  async page(@Res() reply: Reply) {
    const file = await this.assets.page();
    if (!file) throw notFound('console page', 'index.html');
    return withFileHeaders(reply, file).header('content-security-policy', CONSOLE_CSP).send(file.body);
  }

  @Get('assets/:file')
  async asset(@Param('file') name: string, @Res() reply: Reply) {
    const file = await this.assets.asset(name);
    // the scripts exist after `npm run build`
    if (!file) throw notFound('console file', name);
    return withFileHeaders(reply, file).send(file.body);
  }
}

/** Its type, and asked again on each use (a rebuild shows at once). */
function withFileHeaders(reply: Reply, file: ConsoleFile): Reply {
  return reply.header('content-type', file.type).header('cache-control', 'no-cache');
}
