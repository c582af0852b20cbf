// The work of each meterctl command on an open session: what it reads, which procedure it runs
// with which parameters, and what it prints.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <vector>

#include "options.h"
#include "outcome.h"
#include "session.h"

namespace meter::apps::meterctl {

/// Runs `options.command`; results on `out`, per-object failures of `read` on `err` (the
/// failure returned then has an empty message: it was printed already).
Outcome<void> run_command(MeterSession& session, const Options& options, std::ostream& out,
                          std::ostream& err);

/// SP-10's parameters: SET_MASK, LTIME_DATE, TIME_DATE_QUAL (GMT for a UTC setting).
std::vector<std::uint8_t> set_time_parameters(const ClockSetting& setting);
/// MP-2's parameters: u8 register, i64 reading in mWh.
std::vector<std::uint8_t> billing_parameters(BillingRegister which, std::int64_t mwh);
/// A UTC ClockSetting for this computer's clock now, to the second.
ClockSetting utc_now();

}  // namespace meter::apps::meterctl
