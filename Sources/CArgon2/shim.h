#ifndef LLMLAB_CARGON2_SHIM_H
#define LLMLAB_CARGON2_SHIM_H
#include <argon2.h>
#endif
