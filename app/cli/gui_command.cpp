// `batchscope [gui]`: the desktop application.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <iostream>

#include "app/cli/cli_common.h"

namespace batchscope::app {

int runGuiCommand(int, char**, const QStringList& args) {
    std::cerr << "note: the desktop window is not part of this build yet; running the console demo\n";
    return runDemo(args);
}

}  // namespace batchscope::app
