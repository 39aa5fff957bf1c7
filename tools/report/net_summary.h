/* Human-readable table of a built net: layer, type, bottoms -> tops with
 * shapes, parameter count, activation memory; totals and outputs. */
#ifndef CLIFF_NET_SUMMARY_H
#define CLIFF_NET_SUMMARY_H

#include <stdio.h>

#include "layers/net/net.h"

void cliff_net_summary(FILE *out, const CliffNet *net, const char *title);

#endif
