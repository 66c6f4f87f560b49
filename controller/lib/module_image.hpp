// libutrace internal: the image of a module file, decompressed.
#pragma once

#include <string>

namespace utrace
{

// The bytes init_module() takes for the module file @path: the file's, or
// their decompression when it is an xz, zstd or gzip stream (by content).
// Error: unreadable (errno), or a stream that does not decompress (EINVAL).
std::string module_image(const std::string &path);

} // namespace utrace
