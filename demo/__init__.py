"""Demo data and load: demo people, the demo catalogue, the load generator.

The product reaches it only at named edges: the views of bodyless POSTs take
demo people (:mod:`demo.people`), the app seeds ``conteudos`` with the demo
catalogue (:mod:`demo.title_maker`, its words in ``vocabulary.json``), and
loading the app registers ``faust -A app loadgen`` (:mod:`demo.loadgen`). It
imports nothing of the product but ``app``.
"""
