#pragma once
// Turns simulated flow records into S3-delivery-style hourly gzip files of AWS VPC flow
// log text (header line first). Not thread-safe; one writer per run.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "lab/Environment.hpp"
#include "lab/Labels.hpp"

namespace flowlier::lab {

// v2 and v5_custom are AWS text; the others are written by lab/CloudLogWriter.
enum class LogFormat : std::uint8_t { v2, v5_custom, gcp, azure_nsg, azure_vnet };

// The directory under the output directory that holds the logs (what to replay).
const char* log_root(LogFormat format);

class CloudLogWriter;

// One flow log record on one ENI inside one 60 s aggregation window.
struct FlowLine {
  std::int64_t start = 0;  // Unix seconds of first packet (inside the window)
  std::int64_t end = 0;    // Unix seconds of last packet (inside the window)
  std::uint32_t host = 0;  // index into Environment::hosts(): the ENI that logs the record
  std::uint32_t src = 0;
  std::uint32_t dst = 0;
  std::uint16_t sport = 0;
  std::uint16_t dport = 0;
  std::uint8_t protocol = 6;
  bool reject = false;
  bool egress = false;       // flow-direction relative to the ENI
  std::uint8_t path = 0;     // traffic-path for egress records (1 VPC, 8 internet gateway)
  std::uint8_t tcp_flags = 0;
  std::uint32_t packets = 0;
  std::uint64_t bytes = 0;
};

class FlowLogWriter {
 public:
  FlowLogWriter(const Environment& env, LogFormat format, std::filesystem::path out_dir,
                std::uint64_t seed);
  ~FlowLogWriter();

  // Writes the records of the hour starting at hour_start as one file. Records are ordered
  // by window end plus a per-record delivery jitter of 0..119 s (derived from the record's
  // content, so the order is reproducible), which gives AWS-like small disorder. Returns
  // an empty string on success, else what failed.
  std::string write_hour(std::int64_t hour_start, std::vector<FlowLine>& lines);

  // Renames the labels' interfaces (ENI ids) to the ids the format gives them (GCP VM
  // name, Azure MAC), so that events and labels name the same entities.
  void relabel(Labels& labels) const;

  // Path of the file for the hour starting at hour_start (relative to out_dir).
  std::filesystem::path relative_path(std::int64_t hour_start) const;

  std::uint64_t records() const { return records_; }
  std::uint64_t files() const { return files_; }
  std::uint64_t uncompressed_bytes() const { return uncompressed_bytes_; }
  std::uint64_t compressed_bytes() const { return compressed_bytes_; }

  static const char* header(LogFormat format);

 private:
  void append_line(std::string& out, const FlowLine& line) const;

  const Environment& env_;
  LogFormat format_;
  std::filesystem::path out_dir_;
  std::uint64_t seed_;
  std::unique_ptr<CloudLogWriter> cloud_;  // GCP and Azure formats
  std::uint64_t records_ = 0;
  std::uint64_t files_ = 0;
  std::uint64_t uncompressed_bytes_ = 0;
  std::uint64_t compressed_bytes_ = 0;
};

}  // namespace flowlier::lab
