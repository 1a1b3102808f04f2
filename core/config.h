#ifndef TF_config_H
#define TF_config_H
#endif
