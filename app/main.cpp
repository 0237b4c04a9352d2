// batchscope — entry point; dispatches to the subcommands in app/cli.
// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/cli/command_line.h"

int main(int argc, char** argv) { return batchscope::app::runCommandLine(argc, argv); }
