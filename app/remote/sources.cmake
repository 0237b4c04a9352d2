# Remote servers the window can watch (ServerSource): a remote `batchscope serve` over the
# WebSocket API, and any OpenAI-compatible server with Prometheus metrics.
# SPDX-License-Identifier: GPL-3.0-or-later
target_sources(batchscope_app_core PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/server_source.h
    ${CMAKE_CURRENT_LIST_DIR}/remote_source.h
    ${CMAKE_CURRENT_LIST_DIR}/remote_source.cpp
    ${CMAKE_CURRENT_LIST_DIR}/prometheus_text.cpp
    ${CMAKE_CURRENT_LIST_DIR}/remote_decode.cpp
    ${CMAKE_CURRENT_LIST_DIR}/batchscope_source.cpp
)
target_sources(batchscope_app_core PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/sse_parser.cpp
    ${CMAKE_CURRENT_LIST_DIR}/server_metrics_reader.cpp
    ${CMAKE_CURRENT_LIST_DIR}/openai_source.cpp
)
target_sources(batchscope_app_core PRIVATE ${CMAKE_CURRENT_LIST_DIR}/connection_spec.cpp)
target_sources(batchscope_app_core PRIVATE ${CMAKE_CURRENT_LIST_DIR}/local_engine_source.cpp)
