#!/usr/bin/env python3
"""Seeds corpus/<target>/ with InfluxDB 1.6.7's own sections and blocks from the fixtures.

Run from anywhere: python3 crates/encoding/fuzz/seed_corpus.py
"""
import os

here = os.path.dirname(os.path.abspath(__file__))
fixtures = os.path.join(here, '..', '..', '..', 'tests', 'fixtures', 'influxdb-1.6.7')
kinds = {'timestamp': 'timestamps', 'float': 'floats', 'integer': 'integers',
         'unsigned': 'unsigned', 'boolean': 'booleans', 'string': 'strings'}

for kind, target in kinds.items():
    out = os.path.join(here, 'corpus', 'decode_' + target)
    os.makedirs(out, exist_ok=True)
    for line in open(os.path.join(fixtures, 'vectors', 'index.tsv')):
        if line.startswith('#'):
            continue
        f = line.rstrip('\n').split('\t')
        if f[0] == kind and not f[4].startswith('ERROR') and len(f[4]) <= 4000:
            open(os.path.join(out, f[1]), 'wb').write(bytes.fromhex(f[4]))

out = os.path.join(here, 'corpus', 'decode_block')
os.makedirs(out, exist_ok=True)
for name in ['small', 'small.uint', 'edge']:
    for i, line in enumerate(open(os.path.join(fixtures, name + '.tsm.blocks'))):
        if line.startswith('#'):
            continue
        block = line.rstrip('\n').split('\t')[12]
        if len(block) <= 4000:
            open(os.path.join(out, '%s_%d' % (name, i)), 'wb').write(bytes.fromhex(block))
