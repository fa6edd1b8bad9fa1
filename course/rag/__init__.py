"""Part V of the course: retrieval-augmented generation (notebook 11).

Read in this order, one idea per file:

    knowledge.py  a fictional encyclopedia the course invents (facts no model has seen) and its
    questions chunking.py   documents cut into overlapping windows of words index.py      TF-IDF and
    hidden-state embeddings, an exact vector index, recall@k generate.py   prompts with retrieved
    context, answer extraction, accuracy and hallucination rate

Import from the module itself (``from course.rag.index import VectorIndex``) so a learner can open
the file beside the lesson.
"""
