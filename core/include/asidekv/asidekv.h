// asidekv: an embedded key-value store with a cache-aside layer over RocksDB.
//
// The one header applications include:
//   #include <asidekv/asidekv.h>
// and the one CMake target they link: asidekv::asidekv (find_package(asidekv CONFIG REQUIRED)).
// Start with Store (asidekv/store.h) and Options (asidekv/options.h).

#ifndef ASIDEKV_ASIDEKV_H_
#define ASIDEKV_ASIDEKV_H_

#include "asidekv/options.h"
#include "asidekv/stats.h"
#include "asidekv/store.h"
#include "asidekv/version.h"
#include "asidekv/write_batch.h"

#endif  // ASIDEKV_ASIDEKV_H_
