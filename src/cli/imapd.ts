import { runDaemon } from '../runtime/daemon.js';
import { runImapSession } from '../imap/session.js';

void runDaemon('imapd', runImapSession);
