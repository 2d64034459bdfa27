import { runDaemon } from '../runtime/daemon.js';
import { runPop3Session } from '../pop3/session.js';

void runDaemon('ipop3d', runPop3Session);
