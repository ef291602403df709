// Administration, straight to the database and never over HTTP:
//   account create --name <company> --email <mainEmail> [--calls-per-hour N] [--json]
//   account list [--json]
//   account disable <accountId> | account enable <accountId>
//   api-user reset-password <username> [--password <pw>] [--json]
import { parseArgs } from 'node:util';
import { createServices } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { connectDatabase } from './db/connection.js';
import { DatabaseNotFoundError, startDatabaseServer } from './db/databaseServer.js';
import { COMMAND_LINE } from './domain/auditTrail.js';
import { generatePassword } from './domain/generatedSecrets.js';
import { ApiError } from './errors.js';

const USAGE = `Usage: npm run --silent cli -- <command>
  account create --name <company> --email <mainEmail> [--calls-per-hour N] [--json]
  account list [--json]
  account disable <accountId>
  account enable <accountId>
  api-user reset-password <username> [--password <password>] [--json]`;

class UsageError extends Error {}

/** Decimal digits only: Number() would also take "0x10", "1e3", " 5" and "". */
function parseCallsPerHour(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = /^[0-9]{1,8}$/.test(text) ? Number(text) : NaN;
  if (!(value >= 1 && value <= 10_000_000)) throw new UsageError('--calls-per-hour must be a whole number from 1 to 10000000.');
  return value;
}

const OPTIONS = {
  name: { type: 'string' },
  email: { type: 'string' },
  'calls-per-hour': { type: 'string' },
  password: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/** The command line as parseArgs reads it; whatever it refuses (an unknown option, a value like "-1" it takes for one) is a usage error. */
function readArguments(argv: string[]) {
  try {
    return parseArgs({ args: argv, allowPositionals: true, strict: true, options: OPTIONS });
  } catch (error) {
    if ((error as { code?: unknown }).code?.toString().startsWith('ERR_PARSE_ARGS_')) throw new UsageError((error as Error).message);
    throw error;
  }
}

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = readArguments(argv);
  const [group, command, argument, ...extra] = positionals;
  if (values.help || !group) throw new UsageError('');
  if (extra.length > 0) throw new UsageError(`Unexpected argument: ${extra.join(' ')}`);

  const config = loadConfig();
  const databaseServer = await startDatabaseServer({
    mongodbUri: config.MONGODB_URI,
    dataDir: config.DATA_DIR,
    onBuild: (message) => console.error(message),
  });
  // A server it started is stopped whatever happens next, a failed connection included.
  const database = await connectDatabase(databaseServer.uri, { operationTimeoutMs: config.DB_OPERATION_TIMEOUT_MS }).catch(async (error: unknown) => {
    await databaseServer.stop();
    throw error;
  });
  const { accounts, apiUsers } = createServices(config, database);
  const print = (human: string, json: unknown) => console.log(values.json ? JSON.stringify(json) : human);
  try {
    switch (`${group} ${command ?? ''}`) {
      case 'account create': {
        if (argument) throw new UsageError(`Unexpected argument: ${argument}`);
        const name = values.name?.trim();
        const mainEmail = values.email?.trim();
        if (!name || !mainEmail) throw new UsageError('account create needs --name and --email.');
        if (name.length > 200) throw new UsageError('--name must be at most 200 characters.');
        if (!/^[^\s@]+@[^\s@]+$/.test(mainEmail)) throw new UsageError(`--email is not an email address: ${mainEmail}`);
        const callsPerHour = parseCallsPerHour(values['calls-per-hour']);
        const { account, owner, password } = await accounts.create({ name, mainEmail, apiCallsPerHour: callsPerHour });
        print(
          `Created account ${account._id.toHexString()} (${account.name}).\nOwner API user (the password is shown this once):\nusername: ${owner.username}\npassword: ${password}`,
          { accountId: account._id.toHexString(), username: owner.username, password },
        );
        return;
      }
      case 'account list': {
        const list = await accounts.list();
        const rows = list.map((account) => ({
          accountId: account._id.toHexString(),
          name: account.name,
          mainEmail: account.mainEmail,
          disabled: account.disabled,
          apiCallsPerHour: account.apiCallsPerHour,
          locale: account.locale,
          created: account.created.toISOString(),
        }));
        const human = rows.length
          ? rows.map((row) => `${row.accountId}  ${row.disabled ? 'disabled' : 'enabled '}  ${row.apiCallsPerHour}/h  ${row.name} <${row.mainEmail}>`).join('\n')
          : 'No accounts.';
        print(human, rows);
        return;
      }
      case 'account disable':
      case 'account enable': {
        if (!argument) throw new UsageError(`account ${command} needs an account id.`);
        const account = command === 'disable' ? await accounts.disable(argument) : await accounts.enable(argument);
        if (!account) throw new CliFailure(`No account with id ${argument}.`);
        const note = command === 'disable' ? ' All its API users are locked.' : ' Its API users stay locked until their passwords are reset.';
        print(`Account ${argument} (${account.name}) is ${command}d.${note}`, { accountId: argument, disabled: account.disabled });
        return;
      }
      case 'api-user reset-password': {
        if (!argument) throw new UsageError('api-user reset-password needs a username.');
        const user = await apiUsers.findByUsername(argument);
        const account = user && (await accounts.findById(user.accountId));
        if (!user || !account) throw new CliFailure(`No API user named ${argument}.`);
        const password = values.password ?? generatePassword({ username: user.username, companyName: account.name });
        await apiUsers.setPassword(user, account, password, COMMAND_LINE);
        print(
          values.password === undefined
            ? `The password of ${user.username} is reset and the user unlocked. New password (shown this once):\npassword: ${password}`
            : `The password of ${user.username} is reset and the user unlocked.`,
          values.password === undefined ? { username: user.username, password } : { username: user.username },
        );
        return;
      }
      default:
        throw new UsageError(`Unknown command: ${[group, command].filter(Boolean).join(' ')}`);
    }
  } finally {
    await database.close();
    await databaseServer.stop();
  }
}

class CliFailure extends Error {}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (error: unknown) => {
    if (error instanceof UsageError) {
      if (error.message) console.error(error.message);
      console.error(USAGE);
      process.exit(2);
    }
    // A bad configuration stops it as it stops the server: a sentence naming the variable, exit code 2.
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    if (error instanceof ApiError) console.error(error.sentence);
    else if (error instanceof CliFailure || error instanceof DatabaseNotFoundError) console.error(error.message);
    else console.error('Failed:', error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
