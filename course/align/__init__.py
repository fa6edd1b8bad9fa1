"""Part IV of the course: aligning a pretrained GPT (notebooks 09 and 10).

The InstructGPT recipe (Ouyang et al. 2022), one idea per file, read in this order:

    tasks.py    the course-built data: pretraining mix, instructions, the simulated annotator
    sft.py      supervised fine-tuning with the prompt masked out of the loss; completions
    lora.py     low-rank adapters (LoRA) written from scratch
    reward.py   a reward model trained on preference pairs (Bradley-Terry)
    ppo.py      PPO with a value head, GAE, the clipped objective and a per-token KL penalty
    dpo.py      Direct Preference Optimisation: the same pairs, no reward model, no RL

Import from the module itself (``from course.align.lora import add_lora``) so a learner can open the
file beside the lesson.
"""
