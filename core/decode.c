/* decode: being written */
#include "decode.h"
