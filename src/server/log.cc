#include "server/log.h"

#include <spdlog/logger.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>

#include "common/strings.h"

namespace berth::server {
namespace {

// The time as it is written in both formats: ISO 8601 in UTC, to the millisecond.
constexpr char kTimePattern[] = "%Y-%m-%dT%H:%M:%S.%eZ";

struct Log {
  std::mutex mu;
  std::shared_ptr<spdlog::logger> logger;
  LogFormat format = LogFormat::kText;
};

Log& the_log() {
  static Log log;
  return log;
}

std::shared_ptr<spdlog::logger> make_logger(LogFormat format, std::ostream* out) {
  spdlog::sink_ptr sink;
  if (out != nullptr)
    sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(*out, /*force_flush=*/true);
  else
    sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  auto logger = std::make_shared<spdlog::logger>("berthd", std::move(sink));
  // In JSON the message (%v) is given already as a JSON string, quoted and escaped.
  const std::string pattern =
      format == LogFormat::kJson
          ? std::string("{\"time\":\"") + kTimePattern + "\",\"level\":\"%l\",\"message\":%v}"
          : std::string(kTimePattern) + " %l berthd: %v";
  logger->set_formatter(
      std::make_unique<spdlog::pattern_formatter>(pattern, spdlog::pattern_time_type::utc));
  logger->set_level(spdlog::level::info);
  logger->flush_on(spdlog::level::info);
  return logger;
}

spdlog::level::level_enum spdlog_level(LogLevel level) {
  switch (level) {
    case LogLevel::kInfo:
      return spdlog::level::info;
    case LogLevel::kWarning:
      return spdlog::level::warn;
    case LogLevel::kError:
      return spdlog::level::err;
    case LogLevel::kCritical:
      return spdlog::level::critical;
  }
  return spdlog::level::err;
}

}  // namespace

void configure_log(LogFormat format, std::ostream* out) {
  Log& log = the_log();
  auto logger = make_logger(format, out);
  std::lock_guard lock(log.mu);
  log.logger = std::move(logger);
  log.format = format;
}

void log_event(LogLevel level, const std::string& message) {
  Log& log = the_log();
  std::shared_ptr<spdlog::logger> logger;
  LogFormat format;
  {
    std::lock_guard lock(log.mu);
    if (!log.logger) log.logger = make_logger(LogFormat::kText, nullptr);
    logger = log.logger;
    format = log.format;
  }
  const std::string text =
      format == LogFormat::kJson
          ? nlohmann::json(message).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
          : terminal_safe(message);
  logger->log(spdlog_level(level), spdlog::string_view_t(text.data(), text.size()));
}

}  // namespace berth::server
