// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/cli/command_line.h"

#include <cstdio>

namespace batchscope::app {

int runCommandLine(int, char**) {
    std::puts("batchscope (skeleton)");
    return 0;
}

}  // namespace batchscope::app
