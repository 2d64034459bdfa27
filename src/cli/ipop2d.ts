import { runDaemon } from '../runtime/daemon.js';
import { runPop2Session } from '../pop2/session.js';

void runDaemon('ipop2d', runPop2Session);
