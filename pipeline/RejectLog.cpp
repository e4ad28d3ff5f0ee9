#include "pipeline/RejectLog.hpp"

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "pipeline/JsonText.hpp"

namespace flowlier::pipeline {

RejectLog::RejectLog(std::FILE* diagnostics, std::size_t show_first)
    : diagnostics_(diagnostics), show_first_(show_first) {}

RejectLog::~RejectLog() {
  if (rejects_) std::fclose(rejects_);
}

std::string RejectLog::open_rejects_file(const std::string& path) {
  rejects_ = std::fopen(path.c_str(), "w");
  if (!rejects_) return fmt::format("{}: cannot write rejects file: {}", path, std::strerror(errno));
  return {};
}

void RejectLog::report(std::string_view source, const Reject& reject) {
  ++reported_;
  if (diagnostics_ && reported_ <= show_first_) {
    fmt::print(diagnostics_, "{}:{}: rejected ({}): {}\n", source, reject.line, to_string(reject.reason),
               reject.message);
    if (reported_ == show_first_) {
      fmt::print(diagnostics_, "further rejects are counted, not shown{}\n",
                 rejects_ ? " (all are in the rejects file)" : "");
    }
  }
  if (rejects_ || writer_) {
    std::string line = "{\"source\":";
    append_json_string(line, source);
    line += fmt::format(",\"line\":{},\"reason\":\"{}\",\"message\":", reject.line, to_string(reject.reason));
    append_json_string(line, reject.message);
    line += ",\"raw\":";
    append_json_string(line, reject.raw);
    line += "}";
    if (writer_) return writer_(line);
    line += "\n";
    std::fwrite(line.data(), 1, line.size(), rejects_);
  }
}

}  // namespace flowlier::pipeline
