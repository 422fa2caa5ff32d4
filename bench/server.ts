/** The service plus a no-I/O route, for the HTTP benchmark (run as a child process). */
import { Body, Controller, HttpCode, Module, Post } from '@nestjs/common';
import { createApp } from '../src/app.factory.js';
import { loadConfig } from '../src/config/config.js';
import { Public } from '../src/shared/route-access.js';

@Controller('bench')
class NoopController {
  @Post('noop')
  @Public()
  @HttpCode(201)
  noop(@Body() body: unknown) {
    return { ok: true, received: typeof body };
  }
}

@Module({ controllers: [NoopController] })
class NoopModule {}

const config = loadConfig();
const { app } = await createApp(config, { extraModules: [NoopModule] });
await app.listen(config.port, '127.0.0.1');
process.send?.('ready');
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
