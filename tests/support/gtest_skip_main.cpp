// main() of every GoogleTest executable: gtest_main's behaviour, plus exit code 77 when every
// test that ran was skipped (GTEST_SKIP) and none passed or failed, so CTest (SKIP_RETURN_CODE
// 77, set in tests/CMakeLists.txt) reports the executable as skipped instead of passed. An
// executable with some tests passed and some skipped exits 0 and shows as passed; .ci/run counts
// its skipped cases from the output (see docs/testing.md, "Skipped tests").
// SPDX-License-Identifier: GPL-3.0-or-later
#include <gtest/gtest.h>

int main(int argc, char** argv) {
    testing::InitGoogleTest(&argc, argv);
    const int rc = RUN_ALL_TESTS();
    const testing::UnitTest& unit = *testing::UnitTest::GetInstance();
    if (rc == 0 && unit.successful_test_count() == 0 && unit.failed_test_count() == 0 &&
        unit.skipped_test_count() > 0)
        return 77;
    return rc;
}
