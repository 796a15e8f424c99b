// SPDX-License-Identifier: GPL-2.0
/*
 * dax_pmd_dio_ref: dax_pmd_dio plus its new-semantics check: after the
 * O_DIRECT / PMD fault races, once everything is quiet, the buffer's page
 * is an order-9 folio with refcount 1, entire mapcount 1 and no pins.
 * Group "refcount": on stock 6.12 a PMD-mapped DAX page reads order 0,
 * refcount 1, mapcount 0.
 */
#define WITH_REFS 1
#include "dax_pmd_dio.c"
