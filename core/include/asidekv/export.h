// ASIDEKV_EXPORT marks what the asidekv library exports: the public classes and functions of
// these headers. A shared build (cmake -DASIDEKV_BUILD_SHARED=ON) compiles everything else with
// hidden visibility, so only marked names are part of the library's ABI. Harmless in a static
// build.
//
// This header compiles as C++17.

#ifndef ASIDEKV_EXPORT_H_
#define ASIDEKV_EXPORT_H_

#if defined(__GNUC__) || defined(__clang__)
#define ASIDEKV_EXPORT __attribute__((visibility("default")))
#else
#define ASIDEKV_EXPORT
#endif

#endif  // ASIDEKV_EXPORT_H_
