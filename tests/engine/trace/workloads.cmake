# SPDX-License-Identifier: GPL-3.0-or-later
batchscope_add_gtest(test_trace_import SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_trace_import.cpp LABELS unit)
batchscope_add_gtest(test_workload_generator SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_workload_generator.cpp LABELS unit)
batchscope_add_gtest(test_synthetic_prompt SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_synthetic_prompt.cpp LABELS unit)
