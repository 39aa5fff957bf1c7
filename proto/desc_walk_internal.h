/* Helpers shared by desc_walk.c and desc_scalar.c only (not an API). */
#ifndef CLIFF_DESC_WALK_INTERNAL_H
#define CLIFF_DESC_WALK_INTERNAL_H

#include "desc_walk.h"

#define MEMBER(T, m, off) (*(T *)((char *)(m) + (off)))
#define CMEMBER(T, m, off) (*(const T *)((const char *)(m) + (off)))

/* Bytes of one value of f (one array element for repeated fields). */
size_t cliff_walk_elem_size(const ProtobufCFieldDescriptor *f);
/* Room for one more element of repeated f: its uninitialised storage; the
 * caller fills it and increments n. NULL on OOM (err filled). */
void *cliff_walk_append_slot(CliffWalk *w, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
                             CliffError *err);
/* Frees what a singular member owns (never the default pointers). */
void cliff_walk_free_singular(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f);
/* Before a singular field is stored: clears a sibling of the same oneof. */
void cliff_walk_claim_oneof(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f);
/* Marks singular field f present after its member was written. */
void cliff_walk_mark_present(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f);
/* name[0..len) for an error message: shortened, control characters as '?'. */
const char *cliff_walk_quote(const char *name, size_t len, char *buf, size_t n);

#endif
