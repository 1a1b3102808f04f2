/* capture: being written */
#include "capture.h"
