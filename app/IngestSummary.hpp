#pragma once
// The end-of-run summary of what was read, shared by normalize and replay.
#include <cstdio>
#include <string_view>

#include "pipeline/IngestStats.hpp"

namespace flowlier::app {

void print_ingest_summary(std::FILE* out, std::string_view command, const pipeline::IngestStats& stats,
                          double seconds);

}  // namespace flowlier::app
