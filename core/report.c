/* report: being written */
#include "report.h"
