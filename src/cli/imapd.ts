import { runDaemon } from '../runtime/daemon.js';
import { runImapSession } from '../imap/session.js';

await runDaemon('imapd', runImapSession);
