// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/bridge/engine_bridge.h"
