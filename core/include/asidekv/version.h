// The version of asidekv these headers belong to. CMakeLists.txt reads the project version from
// here, so the numbers exist once. Compatibility: releases that share MAJOR.MINOR keep the API
// and the on-disk format (the installed CMake package checks SameMinorVersion).
//
// This header compiles as C (and C++17).

#ifndef ASIDEKV_VERSION_H_
#define ASIDEKV_VERSION_H_

#define ASIDEKV_VERSION_MAJOR 0
#define ASIDEKV_VERSION_MINOR 3
#define ASIDEKV_VERSION_PATCH 0
#define ASIDEKV_VERSION_STRING "0.3.0"

// A single number for comparisons: e.g. ASIDEKV_VERSION >= ASIDEKV_MAKE_VERSION(0, 2, 0).
#define ASIDEKV_MAKE_VERSION(major, minor, patch) ((major)*10000 + (minor)*100 + (patch))
#define ASIDEKV_VERSION \
  ASIDEKV_MAKE_VERSION(ASIDEKV_VERSION_MAJOR, ASIDEKV_VERSION_MINOR, ASIDEKV_VERSION_PATCH)

#endif  // ASIDEKV_VERSION_H_
