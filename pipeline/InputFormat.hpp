#pragma once
// The input formats flowlier reads, how to recognise them, and how to make a decoder.
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "pipeline/Decoder.hpp"

namespace flowlier::pipeline {

enum class InputFormat {
  aws_text,        // VPC flow log lines: S3 file with header, or default v2 / configured format
  aws_cloudwatch,  // CloudWatch Logs subscription payload: {"messageType", "logEvents": [...]}
  aws_firehose,    // Firehose HTTP endpoint delivery: {"requestId", "records": [{"data": base64}]}
  gcp,             // Cloud Logging LogEntry objects, one per line or as a JSON array
  azure_nsg,       // NSG flow logs v1/v2 ({"records": [...NetworkSecurityGroupFlowEvent...]})
  azure_vnet,      // VNet flow logs ({"records": [...FlowLogFlowEvent...]})
};

const char* to_string(InputFormat);
// Accepts the names printed by to_string (e.g. "aws", "aws-cloudwatch", "gcp", "azure-nsg").
std::optional<InputFormat> parse_input_format(std::string_view name);

struct DecoderOptions {
  // AWS field names in order (the ${field} names of the flow log's LogFormat, with or
  // without ${}), used for lines without a header. Empty: the default v2 format.
  std::string aws_fields;
  std::size_t max_line_bytes = 1 << 20;        // longer lines are rejected as line_too_long
  std::size_t max_document_bytes = 256 << 20;  // a larger JSON document is rejected whole
};

// Guesses the format from the first bytes of an input (at least the first line when
// there is one). Returns nullopt when nothing matches.
std::optional<InputFormat> detect_input_format(std::string_view head);

std::unique_ptr<Decoder> make_decoder(InputFormat format, const DecoderOptions& options);

// Per-format factories, each defined beside its decoder in pipeline/formats/.
std::unique_ptr<Decoder> make_aws_text_decoder(const DecoderOptions& options);
std::unique_ptr<Decoder> make_aws_cloudwatch_decoder(const DecoderOptions& options);
std::unique_ptr<Decoder> make_aws_firehose_decoder(const DecoderOptions& options);
std::unique_ptr<Decoder> make_gcp_decoder(const DecoderOptions& options);
std::unique_ptr<Decoder> make_azure_nsg_decoder(const DecoderOptions& options);
std::unique_ptr<Decoder> make_azure_vnet_decoder(const DecoderOptions& options);

}  // namespace flowlier::pipeline
