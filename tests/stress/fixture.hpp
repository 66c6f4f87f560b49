// The fixture every stress scenario uses: after the scenario, nothing may be
// lost (children reaped, no task stuck, engines gone, module refcount and
// slab objects back to their values after the load).
#pragma once

#include <gtest/gtest.h>

#include "common.hpp"

namespace stress
{

class StressTest : public ::testing::Test
{
protected:
	void SetUp() override;
	void TearDown() override;

	// The scenario's budget (--seconds, scaled by @share).
	[[nodiscard]] Budget budget(double share = 1.0) const;
	// Fails the test with every collected failure.
	void expect_none(const Failures &f, const std::string &what) const;
	// Prints the counters with the time since SetUp.
	void report(const Counters &c) const;

private:
	Clock::time_point start_;
};

} // namespace stress
