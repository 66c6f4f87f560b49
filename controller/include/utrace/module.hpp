// Loading and unloading utrace.ko (finit_module / delete_module).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace utrace
{

inline constexpr const char *kModuleName = "utrace";

// The module file to load: the explicit path if given, else $UTRACE_MODULE,
// else DKMS's /lib/modules/<release>/updates/dkms/utrace.ko (or .ko.xz,
// .ko.zst, .ko.gz), else /lib/modules/<release>/extra/utrace.ko, else the
// build tree's module.
// Throws Error(ENOENT) naming every place it looked.
std::string find_module(const std::optional<std::string> &explicit_path);

// Whether a module file is compressed (.ko.xz, .ko.zst, .ko.gz, by name):
// load_module() decompresses it and gives the kernel the image.
bool module_compressed(const std::string &path);

// The "vermagic=" of a module file's .modinfo ("6.1.0-50-amd64 SMP ..."), or
// nullopt if the file has none; of its decompression if it is xz, zstd or
// gzip.  Throws Error if the file cannot be read or decompressed.
std::optional<std::string> module_vermagic(const std::string &path);

// The release a vermagic names: its first word.
std::string vermagic_release(const std::string &vermagic);

// The running kernel's release (uname -r).
std::string kernel_release();

// Whether the module is loaded (/sys/module/utrace exists).
bool module_loaded();

// Loads the module file with the given parameters ("name=value").  Errors are
// Error with a sentence naming the cause: not root, wrong kernel, already
// loaded, kernel without module support, or a kernel the module refuses
// because IBT would make one of its calls into the kernel fault
// (EOPNOTSUPP, kmod/kcall.h).  A compressed module is decompressed here
// (xz, zstd, gzip) and loaded with init_module(), as modprobe does: the
// kernel's own decompression takes only xz with CRC32 checks, and 6.1 has
// none; an uncompressed one is loaded with finit_module().
void load_module(const std::string &path, const std::vector<std::string> &params);

// Unloads the module.  Errors: not loaded, in use, not root.
void unload_module();

} // namespace utrace
