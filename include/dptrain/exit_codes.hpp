#pragma once
// One exit-code table for every command and every rank. README "Failures, guarantees and exit
// codes" lists it with the tests that prove each line; RELIABILITY.md lists the cases tried.
namespace dptrain {

constexpr int kExitOk = 0;
constexpr int kExitRuntimeError = 1;      // bad data, I/O error, divergence, a failed rank
constexpr int kExitUsage = 2;             // bad option, option combination or config file
constexpr int kExitStall = 3;             // a rank stalled or died inside a collective
constexpr int kExitStopped = 75;          // stopped by a signal after writing a checkpoint
constexpr int kExitSecondInterrupt = 130;  // a second SIGINT: stopped at once, nothing written

}  // namespace dptrain
