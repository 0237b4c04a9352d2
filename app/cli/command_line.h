// Command-line front end: `batchscope [gui|serve|generate|bench|tokenize] [options]`.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

namespace batchscope::app {

/// Parses argv, runs the chosen subcommand and returns the process exit code.
int runCommandLine(int argc, char** argv);

}  // namespace batchscope::app
