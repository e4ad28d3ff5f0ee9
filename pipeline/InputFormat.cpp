#include "pipeline/InputFormat.hpp"

#include <array>
#include <utility>

namespace flowlier::pipeline {

namespace {
constexpr std::array<std::pair<InputFormat, const char*>, 6> kNames{{
    {InputFormat::aws_text, "aws"},
    {InputFormat::aws_cloudwatch, "aws-cloudwatch"},
    {InputFormat::aws_firehose, "aws-firehose"},
    {InputFormat::gcp, "gcp"},
    {InputFormat::azure_nsg, "azure-nsg"},
    {InputFormat::azure_vnet, "azure-vnet"},
}};

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

std::string_view skip_space(std::string_view s) {
  std::size_t i = 0;
  // A UTF-8 byte order mark sometimes starts exported JSON.
  if (s.substr(0, 3) == "\xef\xbb\xbf") i = 3;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n')) ++i;
  return s.substr(i);
}
}  // namespace

const char* to_string(InputFormat f) {
  for (const auto& [format, name] : kNames) {
    if (format == f) return name;
  }
  return "unknown";
}

std::optional<InputFormat> parse_input_format(std::string_view name) {
  for (const auto& [format, known] : kNames) {
    if (name == known) return format;
  }
  if (name == "aws-text" || name == "aws-vpc") return InputFormat::aws_text;
  return std::nullopt;
}

std::optional<InputFormat> detect_input_format(std::string_view head) {
  head = skip_space(head);
  if (head.empty()) return std::nullopt;
  if (head[0] == '{' || head[0] == '[') {
    // Look only at key names that one format has and the others do not.
    if (contains(head, "\"logEvents\"") || contains(head, "\"messageType\"")) return InputFormat::aws_cloudwatch;
    if (contains(head, "\"requestId\"") && contains(head, "\"records\"")) return InputFormat::aws_firehose;
    if (contains(head, "FlowLogFlowEvent") || contains(head, "\"flowRecords\"") ||
        contains(head, "\"flowLogVersion\"")) {
      return InputFormat::azure_vnet;
    }
    if (contains(head, "NetworkSecurityGroupFlowEvent") || contains(head, "\"flowTuples\"")) {
      return InputFormat::azure_nsg;
    }
    if (contains(head, "vpc_flows") || contains(head, "\"jsonPayload\"") || contains(head, "\"src_ip\"")) {
      return InputFormat::gcp;
    }
    return std::nullopt;
  }
  // Text: a header line of AWS field names, or a record that starts with a version number.
  const auto first_line = head.substr(0, head.find('\n'));
  if (first_line.starts_with("version ") || first_line.starts_with("account-id ") ||
      first_line.starts_with("interface-id ") || contains(first_line, " srcaddr ") ||
      contains(first_line, " log-status") || contains(first_line, "${")) {
    return InputFormat::aws_text;
  }
  if (head[0] >= '0' && head[0] <= '9') {
    std::size_t fields = 1;
    for (std::size_t i = 1; i < first_line.size(); ++i) {
      if (first_line[i] == ' ' && first_line[i - 1] != ' ') ++fields;
    }
    if (fields >= 4) return InputFormat::aws_text;
  }
  return std::nullopt;
}

std::unique_ptr<Decoder> make_decoder(InputFormat format, const DecoderOptions& options) {
  switch (format) {
    case InputFormat::aws_text: return make_aws_text_decoder(options);
    case InputFormat::aws_cloudwatch: return make_aws_cloudwatch_decoder(options);
    case InputFormat::aws_firehose: return make_aws_firehose_decoder(options);
    case InputFormat::gcp: return make_gcp_decoder(options);
    case InputFormat::azure_nsg: return make_azure_nsg_decoder(options);
    case InputFormat::azure_vnet: return make_azure_vnet_decoder(options);
  }
  return nullptr;
}

}  // namespace flowlier::pipeline
