# Workload import and generation (trace importers, workload CSV, generators). A separate file
# from this folder's CMakeLists.txt so the recorder/replay sources and these evolve apart.
# SPDX-License-Identifier: GPL-3.0-or-later
target_sources(batchscope_engine PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/csv_reader.cpp
    ${CMAKE_CURRENT_LIST_DIR}/trace_formats.cpp
    ${CMAKE_CURRENT_LIST_DIR}/trace_import.cpp
    ${CMAKE_CURRENT_LIST_DIR}/workload_csv.cpp
    ${CMAKE_CURRENT_LIST_DIR}/workload_generator.cpp
    ${CMAKE_CURRENT_LIST_DIR}/synthetic_prompt.cpp
)
