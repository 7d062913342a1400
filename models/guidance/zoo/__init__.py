"""The guidance zoo: the newer guidance methods, one module each (its card and its math). Every module in
this package is found and imported by ``models.guidance``; nothing here lists them."""
