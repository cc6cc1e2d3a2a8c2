// SIGINT/SIGTERM handling for event loops: handlers only set a flag, which
// loops poll between zmq_poll timeouts.
#ifndef ZFACTOR_CORE_SIGNALS_H_
#define ZFACTOR_CORE_SIGNALS_H_

namespace zfactor::core {

// Installs handlers for SIGINT and SIGTERM, and ignores SIGPIPE.
void InstallStopHandlers();

// True once SIGINT or SIGTERM arrived (or RequestStop() was called).
bool StopRequested();

// Asks the loops of this process to stop, as a signal would.
void RequestStop();

}  // namespace zfactor::core

#endif  // ZFACTOR_CORE_SIGNALS_H_
