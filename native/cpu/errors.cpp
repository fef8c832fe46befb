// The CPU library's queries: its error message (kept by native/shared/errors.cpp) and ABI version.
#include "common.h"

extern "C" {

const char* idemnet_last_error(void) { return idemnet::last_error_message(); }

int idemnet_abi_version(void) { return IDEMNET_ABI_VERSION; }

}  // extern "C"
