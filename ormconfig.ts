import { DataSource } from 'typeorm';
import { loadConfig } from './src/config/config.js';
import { dataSourceOptions } from './src/database/data-source.js';

/** The DataSource the TypeORM CLI uses: `npx typeorm migration:run -d dist/ormconfig.js`. */
export default new DataSource(dataSourceOptions(loadConfig().database));
