// batchscope — entry point; dispatches to the subcommands in app/cli.
// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/cli/command_line.h"

#ifdef BATCHSCOPE_CUDA_APP
#include "engine/runtime/executor_factory.h"
#include "gpu/cuda_backend.h"
#endif

int main(int argc, char** argv) {
#ifdef BATCHSCOPE_CUDA_APP
    batchscope::engine::registerCudaExecutorFactory(&batchscope::gpu::loadCudaExecutorForEngine);
#endif
    return batchscope::app::runCommandLine(argc, argv);
}
