/* pipeline: being written */
#include "pipeline.h"
