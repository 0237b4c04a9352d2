# The local WebSocket API (protocol, access token, server, sessions, load bench).
# SPDX-License-Identifier: GPL-3.0-or-later
target_sources(batchscope_app_core PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/protocol.cpp
    ${CMAKE_CURRENT_LIST_DIR}/protocol_encode.cpp
    ${CMAKE_CURRENT_LIST_DIR}/access_token.cpp
    ${CMAKE_CURRENT_LIST_DIR}/api_server.cpp
    ${CMAKE_CURRENT_LIST_DIR}/handshake_gate.cpp
    ${CMAKE_CURRENT_LIST_DIR}/api_session.cpp
    ${CMAKE_CURRENT_LIST_DIR}/api_load_bench.cpp
    ${CMAKE_CURRENT_LIST_DIR}/api_options.cpp
    ${CMAKE_CURRENT_LIST_DIR}/trace_load_driver.cpp
)
