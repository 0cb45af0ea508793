// `npm run services -- start|stop|status|env|reset`: the local Kafka, FerretDB and schema
// registry by hand.
import { ensureDependencies, note } from './lib/project.mjs';
import {
  externalServicesConfigured,
  localServiceEnv,
  resetServiceData,
  serviceStatus,
  startServices,
  stopServices,
} from './lib/services.mjs';

const command = process.argv[2] ?? 'status';
const commands = {
  async start() {
    if (externalServicesConfigured())
      return note('KAFKA_BROKERS and MONGO_URL are set: using those, starting nothing');
    await ensureDependencies();
    await startServices();
    for (const [key, value] of Object.entries(localServiceEnv()))
      console.log(`export ${key}=${value}`);
  },
  // `stop kafka`, `stop ferretdb` or `stop registry` stops one; the tests restart services this way.
  stop: () => stopServices(process.argv.length > 3 ? process.argv.slice(3) : undefined),
  async status() {
    await ensureDependencies();
    for (const line of await serviceStatus()) console.log(line);
  },
  env() {
    for (const [key, value] of Object.entries(localServiceEnv()))
      console.log(`export ${key}=${value}`);
  },
  reset: () => resetServiceData(),
};

if (!commands[command]) {
  process.stderr.write(`usage: npm run services -- ${Object.keys(commands).join('|')}\n`);
  process.exit(2);
}
try {
  await commands[command]();
} catch (error) {
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
}
