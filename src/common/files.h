// Reading a small file whole (a certificate, a key): the one place berth does so by path.
#pragma once

#include <string>

#include "common/status.h"

namespace berth {

// The file's bytes; NotFound "cannot read PATH" when it cannot be opened.
Result<std::string> read_whole_file(const std::string& path);

}  // namespace berth
